"""What is evaluated: suite files, samples, graders and the LLM judge."""
