#!/usr/bin/python3
"""Writes small Digital Mammography images (explicit VR little endian) for the integration
tests: make_images.py OUTDIR COUNT [--rows R --columns C --study-uid UID --seed N].
Pixel values are a smooth gradient plus seeded noise, so compressed variants differ."""
import argparse
import os

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

ROOT = "1.2.826.0.1.3680043.10.1497.9"  # test objects of the project
MG_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.2"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("count", type=int)
    p.add_argument("--rows", type=int, default=256)
    p.add_argument("--columns", type=int, default=192)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--study-uid", default=None)
    p.add_argument("--patient-name", default="Test^Patient")
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    study = a.study_uid or f"{ROOT}.{a.seed}.1"
    series = f"{study}.1"
    views = [("L", "CC"), ("L", "MLO"), ("R", "CC"), ("R", "MLO")]
    for i in range(a.count):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MG_FOR_PRESENTATION
        meta.MediaStorageSOPInstanceUID = f"{series}.{i + 1}"
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = f"{ROOT}.0"
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.SOPClassUID = MG_FOR_PRESENTATION
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.PatientName = a.patient_name
        ds.PatientID = f"P{a.seed}"
        ds.PatientBirthDate = "19600101"
        ds.PatientSex = "F"
        ds.StudyDate = "20261121"
        ds.StudyTime = "120000"
        ds.AccessionNumber = f"A{a.seed}"
        ds.StudyID = "1"
        ds.Modality = "MG"
        ds.SeriesNumber = 1
        ds.InstanceNumber = i + 1
        lat, view = views[i % 4]
        ds.ImageLaterality = lat
        ds.ViewPosition = view
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.PixelSpacing = [0.1, 0.1]
        ds.ImagerPixelSpacing = [0.1, 0.1]
        ds.Rows = a.rows
        ds.Columns = a.columns
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        y, x = np.mgrid[0:a.rows, 0:a.columns]
        img = 800 + 6 * x + 3 * y + rng.normal(0, 40, size=(a.rows, a.columns))
        img = np.clip(img, 0, 4095).astype(np.uint16)
        ds.PixelData = img.tobytes()
        path = os.path.join(a.outdir, f"mg_{a.seed}_{i + 1:04d}.dcm")
        ds.is_little_endian = True
        ds.is_implicit_VR = False
        ds.save_as(path, write_like_original=False)
        print(path)


if __name__ == "__main__":
    main()
