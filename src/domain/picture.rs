//! Campaign pictures: what Facebook and the paper form can use.

use image::ImageFormat;

pub const MIN_WIDTH: u32 = 600;
pub const MIN_HEIGHT: u32 = 315;
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

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
    let decoded = image::load_from_memory_with_format(bytes, format).map_err(|e| match e {
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
}
