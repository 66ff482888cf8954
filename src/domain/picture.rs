//! Campaign pictures: what Facebook and the paper form can use.

use image::ImageFormat;

pub const MIN_WIDTH: u32 = 600;
pub const MIN_HEIGHT: u32 = 315;
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The most memory decoding a picture may take.
pub const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

/// Checks that `bytes` is a PNG or JPEG that decodes, at least 600x315 px and at most
/// 10 MB. Returns its MIME type and size.
pub fn check(bytes: &[u8]) -> Result<(&'static str, u32, u32), String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "the picture is {:.1} MB; the limit is 10 MB: export it smaller or as JPEG",
            bytes.len() as f64 / 1024.0 / 1024.0
        ));
    }
    let format =
        image::guess_format(bytes).map_err(|_| "this is not a PNG or JPEG image".to_string())?;
    let mime = match format {
        ImageFormat::Png => "image/png",
        ImageFormat::Jpeg => "image/jpeg",
        other => {
            return Err(format!(
                "{other:?} images are not supported: use a PNG or JPEG"
            ))
        }
    };
    // Decoding is bounded too: 256 MB holds an 80-megapixel photo, far more than any
    // share card needs, and a small file that unpacks to gigabytes stops here.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => {
            "the picture has too many pixels to read: resize it (1200x630 px is plenty)".to_string()
        }
        e => format!("the image cannot be read ({e}): is the file complete?"),
    })?;
    let (width, height) = (decoded.width(), decoded.height());
    if width < MIN_WIDTH || height < MIN_HEIGHT {
        return Err(format!(
            "the picture is {width}x{height} px; it needs at least {MIN_WIDTH}x{MIN_HEIGHT} px to look sharp when shared"
        ));
    }
    Ok((mime, width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn accepts_big_png_refuses_small_and_non_images() {
        assert_eq!(check(&png(600, 315)).unwrap(), ("image/png", 600, 315));
        assert!(check(&png(599, 400)).unwrap_err().contains("600x315"));
        assert!(check(b"%PDF-1.7 not an image")
            .unwrap_err()
            .contains("not a PNG or JPEG"));
        let mut truncated = png(700, 400);
        truncated.truncate(100);
        assert!(check(&truncated).is_err());
    }

    #[test]
    fn a_small_file_that_unpacks_to_gigabytes_is_refused_not_decoded() {
        // A valid PNG header claiming 60000x60000 px (10 GB of pixels) in a few bytes.
        let mut bomb = png(600, 315);
        bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = check(&bomb).unwrap_err();
        assert!(err.contains("too many pixels"), "{err}");
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
