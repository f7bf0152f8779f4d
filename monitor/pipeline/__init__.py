"""The flow, one folder a stage: poll, queue, run, compare, report, deliver, complete."""
