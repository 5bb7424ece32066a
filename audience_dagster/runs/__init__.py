"""Runs you can trust: one at a time, orphans marked failed, progress you can read, nothing new
means nothing done. The CLI's refresh (:mod:`.refresh`) is built from these parts."""
