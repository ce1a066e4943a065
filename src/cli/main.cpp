// The `loom` command: everything lives in loom_cli; this only binds it to the process.
#include <iostream>

#include "cli/command.h"

int main(int argc, char** argv) {
    loom::cli::Io io{std::cout, std::cerr};
    return loom::cli::run_main(argc, argv, io);
}
