/* The subcommands of the calcnode executable. Each run function takes the arguments
 * after "calcnode" (argv[0] is the command name) and returns the process exit status:
 * 0 success, 1 failure, 2 usage error. Called from the main thread only. */
#ifndef CN_APP_COMMANDS_H
#define CN_APP_COMMANDS_H

#include <stddef.h>

struct cn_command {
    const char *name;
    int (*run)(int argc, char **argv);
};

extern const struct cn_command cn_commands[];
extern const size_t cn_command_count;

int cn_cmd_serve(int argc, char **argv);
int cn_cmd_status(int argc, char **argv);
int cn_cmd_ls(int argc, char **argv);
int cn_cmd_analyze(int argc, char **argv);
int cn_cmd_db(int argc, char **argv);
int cn_cmd_worker(int argc, char **argv);
int cn_cmd_jobs(int argc, char **argv);
int cn_cmd_outbound(int argc, char **argv);
int cn_cmd_train(int argc, char **argv);

#endif
