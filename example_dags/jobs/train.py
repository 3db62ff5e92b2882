"""Example training job: "trains" a model on the features a given execution produced."""

from __future__ import annotations

import argparse
import math
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--features-execution", required=True, help="execution id of the feature job")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="how long training takes")
    args = parser.parse_args(argv)

    print(f"Training on the features of execution {args.features_execution}", flush=True)
    for epoch in range(1, args.epochs + 1):
        time.sleep(args.seconds / args.epochs)
        print(f"epoch {epoch}/{args.epochs} loss={math.exp(-epoch):.4f}", flush=True)
    print(f"MODEL_TRAINED features_execution={args.features_execution}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
