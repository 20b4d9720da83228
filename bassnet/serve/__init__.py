"""`bassnet serve`: the 2-D bass pad in the browser (the paper's §7 interface, open and local).

A FastAPI app (`app.create_app`) serves one static page (`static/`) and a small JSON API over a
`Studio` (`studio.py`), which keeps each song's CQT and each model's mix factors so that a
click on the pad runs only the z side of the model (`generation.curves`). The pad's picture,
the density of the training µ and the QDA pattern regions, is drawn by `pad.py`.
"""
