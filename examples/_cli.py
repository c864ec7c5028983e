"""The command line every example shares: --full (the document's settings), --quick (a smoke run of a
few seconds, used by the tests) and --out, plus per-mode presets for the options left unset."""
import argparse
import os


def example_parser(doc, name, full_help):
    """An ArgumentParser with the shared options; `doc` is the example's module docstring."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help=full_help)
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--out", default=os.path.join("examples_out", name),
                        help=f"folder for the figures (default: examples_out/{name})")
    return parser


def parse(parser, argv, presets, minimum=None):
    """Parse argv. Every name in `presets` ({name: (full, quick, default)}) that the user did not set
    takes the value of the chosen mode; then each option in `minimum` ({name: lowest}) is checked."""
    args = parser.parse_args(argv)
    if args.full and args.quick:
        parser.error("--full and --quick exclude each other")
    mode = 0 if args.full else 1 if args.quick else 2
    for name, values in presets.items():
        if getattr(args, name, None) is None:
            setattr(args, name, values[mode])
    for name, lowest in (minimum or {}).items():
        if getattr(args, name) < lowest:
            parser.error(f"--{name.replace('_', '-')} must be at least {lowest}")
    return args
