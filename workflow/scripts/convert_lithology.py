from carbonbudget.lithology import ascii_matrix_to_geotiff
from carbonbudget.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0], "convert_lithology"):
        g = snakemake.params.geometry
        ascii_matrix_to_geotiff(snakemake.input[0], snakemake.output[0], west=g["west"],
                                north=g["north"], resolution=g["resolution"], nodata=g["nodata"],
                                crs=snakemake.params.crs)
