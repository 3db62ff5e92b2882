"""Example evaluation job: scores the model a given training execution produced."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--training-execution", required=True, help="execution id of the training job")
    parser.add_argument("--min-accuracy", type=float, default=0.8)
    args = parser.parse_args(argv)

    accuracy = 0.93
    print(f"Evaluating the model of training execution {args.training_execution}", flush=True)
    print(f"MODEL_EVALUATED training_execution={args.training_execution} accuracy={accuracy}", flush=True)
    if accuracy < args.min_accuracy:
        print(f"accuracy {accuracy} is below {args.min_accuracy}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
