"""`python -m benchmarks [--quick] [--only sqlite|postgres] [--lifecycles N] [--profile]`:
the ServiceDesk benchmark, then the audit benchmark (which takes --quick and --only),
then the projection rebuild benchmark (--quick, --only, --rounds, --profile), then the Kafka
relay benchmark (--quick), then the HTTP API benchmark (--quick)."""

import sys

from benchmarks import audit, http, kafka, projections
from benchmarks.service_desk import main

if __name__ == "__main__":
    sys.exit(main() or audit.main() or projections.main() or kafka.main() or http.main())
