// The reinforcer executable: a thin shell over the library's command line.
#include "reinforcer/cli/command.hpp"

int main(int argc, char** argv) { return reinforcer::run_cli(argc, argv); }
