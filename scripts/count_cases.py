#!/usr/bin/python3
"""Counts test cases for scripts/test.sh from meson's testlog.json in each
build dir given: a GoogleTest or pytest test counts its cases from its XML
report in meson-logs/cases/ (GoogleTest: cases/gtest/); any other meson test counts as one case. A
meson test that failed though its report shows no failed case (a crash, a
sanitizer report at exit, a timeout) adds one failed case. Prints every
skipped and failed case by name, then the closing line
`tests: N passed, N failed, N skipped`."""

import json
import os
import sys
import xml.etree.ElementTree as ET

OK = ("OK", "EXPECTEDFAIL")


def report_cases(path):
    """[(name, 'pass'|'fail'|'skip', message)] from a JUnit-style XML file."""
    out = []
    for tc in ET.parse(path).getroot().iter("testcase"):
        name = f"{tc.get('classname', '')}.{tc.get('name', '')}".strip(".")
        fail = tc.find("failure")
        if fail is None:
            fail = tc.find("error")
        skip = tc.find("skipped")
        if fail is not None:
            msg = fail.get("message") or (fail.text or "")
            out.append((name, "fail", " ".join(msg.split())[:300]))
        elif skip is not None or tc.get("result") == "skipped" or tc.get("status") == "notrun":
            msg = (skip.get("message") if skip is not None else "") or ""
            out.append((name, "skip", " ".join(msg.split())[:300]))
        else:
            out.append((name, "pass", ""))
    return out


def main(builds):
    passed = failed = skipped = 0
    skips, fails = [], []
    for b in builds:
        label = "" if b == builds[0] else f"[{os.path.basename(os.path.normpath(b))}] "
        cases_dir = os.path.join(b, "meson-logs", "cases")
        for line in open(os.path.join(b, "meson-logs", "testlog.json")):
            r = json.loads(line)
            name, result, cmd = r["name"], r["result"], r.get("command") or []
            xml = None
            for a in cmd:
                if a.startswith("--junitxml="):
                    xml = a[len("--junitxml="):]
            if xml is None and cmd:
                xml = os.path.join(cases_dir, "gtest", os.path.basename(cmd[0]) + ".xml")
            cases = []
            if xml and os.path.exists(xml):
                try:
                    cases = report_cases(xml)
                except ET.ParseError:
                    cases = []
            if not cases:
                st = "pass" if result in OK else "skip" if result == "SKIP" else "fail"
                cases = [(name, st, "" if st == "pass" else f"meson: {result}")]
            elif result not in OK + ("SKIP",) and not any(c[1] == "fail" for c in cases):
                cases.append((name + " (process)", "fail", f"meson: {result}"))
            for cname, st, msg in cases:
                full = f"{label}{name}: {cname}" if cname != name else f"{label}{name}"
                if st == "pass":
                    passed += 1
                elif st == "skip":
                    skipped += 1
                    skips.append((full, msg))
                else:
                    failed += 1
                    fails.append((full, msg))
    for full, msg in skips:
        print(f"skipped: {full}" + (f" ({msg})" if msg else ""))
    for full, msg in fails:
        print(f"failed: {full}" + (f" ({msg})" if msg else ""))
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
