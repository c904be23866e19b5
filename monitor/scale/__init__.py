"""Runs past one machine: a run's sites shared by crawl workers through a Redis queue.

`queue` owns the Redis side (the run's sites, leases that expire, who did what),
`fence` the PostgreSQL lock that makes one process at a time write a site's crawl,
`worker` crawling leased sites into the run's database, `coordinator` the crawl
stage of a distributed `govmon run`. The rest of the run (link check, probes,
evaluation, reports) is the single-process pipeline's, once, on the coordinator.
"""
