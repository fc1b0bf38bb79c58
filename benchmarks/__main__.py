"""`python -m benchmarks [--quick] [--only sqlite|postgres] [--lifecycles N] [--profile]`:
the ServiceDesk benchmark, then the long-record benchmark (--quick, --only), then the audit
benchmark (--quick, --only), then the projection rebuild benchmark (--quick, --only, --rounds,
--profile), then the Kafka relay benchmark (--quick), then the SLA monitor benchmark (--quick,
--only; run `python -m benchmarks.sla --incidents N` for another size), then the alert intake
benchmark (--quick, --only), then the HTTP API benchmark (--quick), then the recurrence read
benchmark (--quick, --only)."""

import sys

from benchmarks import alerts, audit, http, kafka, long_records, projections, recurrence, sla
from benchmarks.service_desk import main

if __name__ == "__main__":
    sys.exit(main() or long_records.main() or audit.main() or projections.main()
             or kafka.main() or sla.main() or alerts.main() or http.main()
             or recurrence.main())
