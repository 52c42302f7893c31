"""Evaluation on a dataset: `batch` (problems decoded in batches by a plan's experts),
`records` (one `Record` per problem, `EvalResults`, results files), `scoring` (accuracy per
expert and of the vote under any tie rule and number of experts) and `report` (the printed
tables and the results file). May import decode, runs, tasks, policy and limits; never the app.
"""
