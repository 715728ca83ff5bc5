"""First-aid training (应急救护培训): training plans and targets, sessions, trainees,
certificates, instructors and equipment.

Not built yet: the app is registered so its place in the layout is fixed; the issues that
follow fill it (DESIGN.md section 2).
"""
