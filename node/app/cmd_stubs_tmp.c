#include <stdio.h>
#include "app/commands.h"
static int not_ready(const char *name)
{
    fprintf(stderr, "calcnode %s: not available in this build\n", name);
    return 1;
}
int cn_cmd_serve(int argc, char **argv) { (void)argc; (void)argv; return not_ready("serve"); }
int cn_cmd_status(int argc, char **argv) { (void)argc; (void)argv; return not_ready("status"); }
int cn_cmd_ls(int argc, char **argv) { (void)argc; (void)argv; return not_ready("ls"); }
int cn_cmd_analyze(int argc, char **argv) { (void)argc; (void)argv; return not_ready("analyze"); }
int cn_cmd_db(int argc, char **argv) { (void)argc; (void)argv; return not_ready("db"); }
