"""Confirm (or not) the chapter's eight claims (techniques.md §6), each with printed numbers.

    python scripts/claims.py [<claim>|all] [--budget full|quick]

Each claim builds or trains real models from the real config tree (digits, CPU) and ends with a
line `claim <name>: CONFIRMED` or `claim <name>: NOT CONFIRMED (why)`. A verdict that does not
hold on this data and budget is reported as such, never forced. `--budget quick` (one seed, a
third of the epochs) is for CI: it checks the claims run, not what they conclude. Exit status: 0
when every claim ran, 1 when one crashed.
"""

import argparse
import logging
import sys
import warnings

import claims_init
import claims_training
import torch
from claims_lib import BUDGETS

from ablation_lab.utils.resolvers import register_resolvers

CLAIMS = {**claims_init.CLAIMS, **claims_training.CLAIMS}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("claim", nargs="?", default="all", choices=[*CLAIMS, "all"])
    parser.add_argument("--budget", default="full", choices=list(BUDGETS))
    args = parser.parse_args()
    register_resolvers()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.ERROR)
    chosen = CLAIMS if args.claim == "all" else {args.claim: CLAIMS[args.claim]}
    results = {}
    for name, check in chosen.items():
        print(f"== {name}: {check.__doc__}")
        results[name] = check(BUDGETS[args.budget])
    confirmed = sum(results.values())
    print(f"{confirmed} of {len(results)} claims confirmed (budget {args.budget}, digits, CPU)")
    sys.exit(0)


if __name__ == "__main__":
    main()
