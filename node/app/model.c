#include "app/model.h"

#include <stdio.h>
#include <string.h>

#include "risk/model.h"
#include "util/log.h"

int cn_app_load_model(const struct cn_conf *conf, struct cn_risk_model **model, char *err,
                      size_t err_len)
{
    *model = NULL;
    if (strcmp(conf->model_path, "none") == 0) {
        cn_log_info("no risk model: clusters are described but not scored");
        return 0;
    }
    char detail[512];
    if (cn_risk_model_load(conf->model_path, model, detail, sizeof detail) != 0) {
        snprintf(err, err_len, "could not load the risk model \"%s\": %s (set model = none to "
                 "run without scores)",
                 conf->model_path, detail);
        return -1;
    }
    const struct cn_risk_model_info *info = cn_risk_model_info(*model);
    cn_log_info("risk model %s: %s%s%s; clusters reported from probability %.3g%s, small "
                "groups from %.3g",
                conf->model_path, info->description ? info->description : "",
                info->synthetic ? "; " : "", info->synthetic ? info->notice : "",
                conf->report_probability_min,
                conf->report_needs_rule ? " when the analysis rule holds" : "",
                conf->report_small_group_probability_min);
    return 0;
}
