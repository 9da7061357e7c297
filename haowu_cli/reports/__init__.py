"""Reports: data shaped for people and machines, and the pages they print to.

`commission` (who gets what, from the ledger), `session` (数据复盘: a planned session against
its orders), `merchants` (monthly GMV and growth milestones, 跃迁), `grades` (level
distribution and moves). `page` writes any of them as one self-contained HTML page.
"""
