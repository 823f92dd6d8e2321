#!/usr/bin/env python3
"""Print a workflow that runs a composite action's steps verbatim, so actionlint (which lints
workflows, not action.yml) checks the action's expressions and scripts. Inputs become
workflow_dispatch inputs, so `inputs.X` references resolve. No YAML library needed: the
action's `steps:` block is copied with its indentation shifted."""
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
inputs = re.findall(r"^  ([a-z][a-z0-9-]*):\n    description:", text.split("\noutputs:")[0], re.M)
steps = text.split("\n  steps:\n", 1)[1]
out = ["on:", "  workflow_dispatch:", "    inputs:"]
for name in inputs:
    out += [f"      {name}:", "        type: string", "        required: false"]
out += ["jobs:", "  action:", "    runs-on: ubuntu-latest", "    steps:"]
for line in steps.splitlines():
    out.append("  " + line if line.strip() else line)
# `github.action_path` exists only inside an action; in the stand-in workflow it is the workspace.
print("\n".join(out).replace("github.action_path", "github.workspace"))
