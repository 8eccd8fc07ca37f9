"""A cron configuration for the process tests (`flask kam cron --config
tests.jobs.sample_cron`): one sweep a second, leaving a trace as the sample jobs do."""

from rq import cron

from kamportal.queue import QUEUE_NAME
from tests.jobs import sample_jobs

cron.register(sample_jobs.record, QUEUE_NAME, args=("swept",), interval=1)
