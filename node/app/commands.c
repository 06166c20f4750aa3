#include "app/commands.h"

const struct cn_command cn_commands[] = {
    {"serve", cn_cmd_serve},
    {"status", cn_cmd_status},
    {"ls", cn_cmd_ls},
    {"analyze", cn_cmd_analyze},
    {"db", cn_cmd_db},
    {"worker", cn_cmd_worker},
    {"jobs", cn_cmd_jobs},
    {"outbound", cn_cmd_outbound},
    {"train", cn_cmd_train},
};
const size_t cn_command_count = sizeof cn_commands / sizeof cn_commands[0];
