"""A dataset's life on the portal as the state's process sets it out: created private
(onboarding), reviewed by OPM before the public sees it (review), planned before anything is
sent (plan), and published with its metadata in line with the standard (publication, the path
every job publishes a table through). The registry records what the portal holds for each spec
dataset.

Plain library code: a dataset's run (`ctdata.pipeline`) and the other jobs call it.
"""
