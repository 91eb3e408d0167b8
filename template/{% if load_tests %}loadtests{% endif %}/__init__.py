"""Load tests: a Locust scenario with pass/fail thresholds, and `make loadtest`'s runner."""
