"""Generation: prompts and reference images to model providers, outputs back (built in the generation issue).

Use cases: ``uploads`` (reference images), ``generations`` (the subject's side: submit, read, list, cancel,
delete), ``runner`` (the worker's side: run, poll, store outputs, retry, recover), ``expiry`` (content retention,
applied by the tasks in ``retention``). Shared by them: ``rules`` (limits and retry rules), ``validation``,
``views``, ``settlement`` (charges), ``removal``, ``provider_jobs`` (cancel and forget at the provider),
``handoff`` (what a provider is sent, disclosed first), ``outputs`` and ``failures`` (user-safe reasons).
"""
