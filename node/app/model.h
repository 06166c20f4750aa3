/* Loading the configured risk model at start-up (issue: a model that cannot be used is a
 * clear error naming the problem, never a silent fallback). Main thread. */
#ifndef CN_APP_MODEL_H
#define CN_APP_MODEL_H

#include <stddef.h>

#include "app/conf.h"

struct cn_risk_model;

/* Loads conf->model_path into *model, or sets *model to NULL when it is "none".
 * Returns 0, or -1 with err naming the file and the problem. */
int cn_app_load_model(const struct cn_conf *conf, struct cn_risk_model **model, char *err,
                      size_t err_len);

#endif
