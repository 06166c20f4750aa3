/* calcnode: command dispatch. Each subcommand lives in node/app/. */
#include <stdio.h>
#include <string.h>

#include "app/commands.h"

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: calcnode COMMAND [options]\n"
            "\n"
            "commands:\n"
            "  serve     receive DICOM, store, analyse and send results (the node)\n"
            "  status    counts of instances, studies, jobs and outbound transfers\n"
            "  ls        list stored instances\n"
            "  analyze   run the calcification analysis on files, offline\n"
            "  worker    analysis workers only (more machines, one database)\n"
            "  train     train the malignancy risk model on labelled cluster features\n"
            "  jobs      list, retry or cancel analysis jobs\n"
            "  outbound  list, retry or cancel result transfers\n"
            "  db        database maintenance (db migrate)\n"
            "  version   print the version\n"
            "\n"
            "calcnode COMMAND --help shows the options of a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *command = argv[1];
    for (size_t i = 0; i < cn_command_count; i++) {
        if (strcmp(command, cn_commands[i].name) == 0)
            return cn_commands[i].run(argc - 1, argv + 1);
    }
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 ||
        strcmp(command, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
        printf("calcnode %s\n", CALCNODE_VERSION);
        return 0;
    }
    fprintf(stderr, "calcnode: unknown command \"%s\"\n", command);
    print_usage(stderr);
    return 2;
}
