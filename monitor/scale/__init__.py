"""Runs past one machine: a run's sites and link check shared by workers through a Redis queue.

`queue` owns the Redis side (the run's sites or link-check shards, leases that expire,
who did what), `fence` the PostgreSQL lock that makes one process at a time write a
site's crawl, `shards` the link check cut into shards of whole hosts, `worker`
crawling leased sites and checking leased shards into the run's database,
`coordinator` the crawl and link-check stages of a distributed `govmon run`. The
rest of the run (the early link check during the crawl, probes, evaluation,
reports) is the single-process pipeline's, once, on the coordinator.
"""
