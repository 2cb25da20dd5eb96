"""The brief: facts with their sources, a verdict, a narrative, a chart, and the files."""
