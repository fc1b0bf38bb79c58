"""`python -m benchmarks [--quick] [--only sqlite|postgres] [--lifecycles N] [--profile]`."""

import sys

from benchmarks.service_desk import main

if __name__ == "__main__":
    sys.exit(main())
