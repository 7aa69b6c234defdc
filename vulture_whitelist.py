# ruff: noqa
"""Names the dead-code finder (vulture, confidence >= 80) reports that are
not dead: parameters a framework's signature requires. Read by
kanal/core/tests/test_dead_code.py; add a name here only with its reason."""

app_configs  # Django system checks take (app_configs, **kwargs)
schema_editor  # RunPython functions take (apps, schema_editor)
frame  # signal handlers take (signum, frame)
extracted  # factory_boy post_generation hooks take (obj, create, extracted)
file_size  # Django upload handlers' file_complete(file_size)
sql  # Django execute wrappers take (execute, sql, params, many, context)
