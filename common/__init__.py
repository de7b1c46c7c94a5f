"""Small pieces every layer may use (tasks, toolchains, boards, runner, results and the pipeline):
typed errors, atomic JSON files, the build root, and run provenance. Nothing here imports the rest."""
