"""Use cases shared by the dashboard pages and manage.py.

Each public function takes the acting user (:class:`services.access.Actor`),
checks the role, does its work in one transaction and writes its audit row.
"""
