"""A dataset's life on the portal as the state's process sets it out: created private
(onboarding), reviewed by OPM before the public sees it (review), and planned before anything is
sent (plan). The registry records what the portal holds for each spec dataset.

Plain library code: the Airflow glue (`ctdata.airflow`) and the command line call it.
"""
