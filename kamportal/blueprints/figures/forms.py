"""Forms of the store figures' CSV upload (F4)."""

from flask_wtf.file import FileField
from wtforms import BooleanField

from kamportal.blueprints.forms import Form


class UploadForm(Form):
    """The CSV file: read and checked by the service, whatever it holds."""

    file = FileField("CSV file")


class ImportForm(Form):
    """Import a checked file; with bad rows, only if the good rows alone are wanted."""

    good_rows_only = BooleanField("Import the good rows only (the bad ones are left out)")
