"""Volunteers (志愿服务): volunteers, teams, activities, service hours, rescue operations
and drills.

Not built yet: the app is registered so its place in the layout is fixed; the issues that
follow fill it (DESIGN.md section 2).
"""
