#include "control/ingest_worker.h"

#include <cstdio>
#include <unordered_set>

#include "control/log.h"

namespace ep {

namespace {
thread_local bool t_is_worker = false;
}

bool IngestWorker::on_worker_thread() {
    return t_is_worker;
}

void IngestWorker::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
}

uint64_t IngestWorker::submit(std::string path, std::string prefix, LineFn on_line,
                              DoneFn on_done) {
    auto job = std::make_shared<Job>();
    std::lock_guard lk(mu_);
    job->out.id = next_id_++;
    job->out.path = std::move(path);
    job->out.prefix = std::move(prefix);
    job->on_line = std::move(on_line);
    job->on_done = std::move(on_done);
    jobs_.push_back(job);
    cv_.notify_one();
    return job->out.id;
}

std::size_t IngestWorker::pending() const {
    std::lock_guard lk(mu_);
    return jobs_.size();
}

void IngestWorker::poll() {
    // Callbacks run without mu_ held: they may write replies or submit.
    std::vector<std::pair<std::shared_ptr<Job>, std::vector<std::string>>> lines;
    std::vector<std::shared_ptr<Job>> finished;
    {
        std::lock_guard lk(mu_);
        for (auto &j : jobs_)
            if (!j->lines.empty()) lines.emplace_back(j, std::move(j->lines)), j->lines.clear();
        while (!jobs_.empty() && jobs_.front()->done) {
            finished.push_back(jobs_.front());
            jobs_.pop_front();
        }
    }
    for (auto &[j, ls] : lines)
        if (j->on_line)
            for (const std::string &l : ls) j->on_line(l);
    for (auto &j : finished)
        if (j->on_done) j->on_done(j->out);
}

void IngestWorker::stop() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
        cancel_.store(true);
        cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
}

void IngestWorker::add_line(Job &job, std::string line) {
    std::lock_guard lk(mu_);
    job.lines.push_back(std::move(line));
}

void IngestWorker::run() {
    t_is_worker = true;
    for (;;) {
        std::shared_ptr<Job> job;
        {
            std::unique_lock lk(mu_);
            cv_.wait(lk, [&] {
                if (stopping_) return true;
                for (auto &j : jobs_)
                    if (!j->done) return true;
                return false;
            });
            if (stopping_) return;
            for (auto &j : jobs_)
                if (!j->done) {
                    job = j;
                    break;
                }
        }
        work(*job);
        std::lock_guard lk(mu_);
        job->done = true;
    }
}

void IngestWorker::test_hold_point() {
    if (!test_hold_ || held_this_job_ || !t_is_worker) return;
    held_this_job_ = true;
    gate_.unlock_worker();  // the control loop (and its SIGTERM handling) goes on
    EP_LOG(NOTICE, "ingest held (--test-ingest-hold): mid-title until stopped");
    {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return cancel_.load(); });
    }
    gate_.lock_worker();
}

void IngestWorker::work(Job &job) {
    held_this_job_ = false;
    gate_.lock_worker();
    // Re-ingesting a name replaces the object (put_object does): say so, so
    // that a wrong prefix cannot overwrite content unnoticed.
    std::unordered_set<std::string> existing;
    store_.for_each_object(
        [&](const chunkstore::ObjectMeta &m) { existing.emplace(m.name, m.name_len); });
    auto progress = [&](const chunkstore::IngestProgress &p) {
        job.out.stored.emplace_back(p.name);
        if (existing.erase(std::string(p.name))) {
            ++job.out.replaced;
            add_line(job, "replaced " + std::string(p.name) + "\n");
        }
        char line[512];
        std::snprintf(line, sizeof line, "progress %llu/%llu objects %llu/%llu bytes %.*s\n",
                      static_cast<unsigned long long>(p.objects_done),
                      static_cast<unsigned long long>(p.objects_total),
                      static_cast<unsigned long long>(p.bytes_done),
                      static_cast<unsigned long long>(p.bytes_total),
                      static_cast<int>(p.name.size()), p.name.data());
        add_line(job, line);
        gate_.yield_worker();  // between objects: the store is consistent
    };
    job.out.status = chunkstore::ingest_path(store_, job.out.path, job.out.prefix, progress,
                                             &job.out.report, &cancel_);
    gate_.unlock_worker();
    for (const std::string &f : job.out.report.failed) add_line(job, "failed " + f + "\n");
}

}  // namespace ep
