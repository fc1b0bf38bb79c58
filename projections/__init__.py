"""Read models fed from the notification log (work queues, SLA clocks, recurrence, audit)."""
