#include "control/log.h"

namespace ep {
int log_type() {
    static const int type = [] {
        int t = rte_log_register_type_and_pick_level("edgeplane", RTE_LOG_INFO);
        return t < 0 ? RTE_LOGTYPE_USER1 : t;
    }();
    return type;
}
}  // namespace ep
