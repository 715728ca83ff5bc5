"""Every write of the donations app: one function per action, one transaction each.

Bad input raises ``django.core.exceptions.ValidationError`` with the field it
concerns; a refused action by the wrong person raises ``PermissionDenied``.
"""
