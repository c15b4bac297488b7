"""The composition root's parts: one wiring unit per module, and the infrastructure they share.

Each unit (``identity``, ``consent``, ``generation``, ``billing``, ``data_rights``, ``support``, ``children``)
declares in one place what its module adds to the whole: its stores (SQL and in-memory repositories, data-map
declaration) as a :class:`~dreamina.wiring.kit.ModuleParts`, and a ``wire_*`` function that builds the module's
frozen facade of use cases together with its :class:`~dreamina.wiring.kit.Contributions` (holders of personal data,
retention tasks, deadline monitors, start and stop hooks). ``dreamina.bootstrap`` only composes them.
"""
