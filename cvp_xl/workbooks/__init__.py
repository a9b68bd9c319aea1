"""Workbook builders: template workbooks written with openpyxl from a spec, share-safe."""
