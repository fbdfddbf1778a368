//! The text of the QR code in a photo or screenshot (PNG or JPEG), decoded with rqrr. Bounded:
//! an image of more than `MAX_PIXELS` is refused from its header, before any pixel is decoded.

use std::io::Cursor;

/// 16 megapixels: a phone photo, and no decompression bomb.
pub const MAX_PIXELS: u64 = 4096 * 4096;

/// Why an upload yields no QR text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrImageError {
    #[error("not a PNG or JPEG image")]
    NotAnImage,
    #[error("the image is {0} × {1} pixels; at most 16 megapixels")]
    TooLarge(u64, u64),
    #[error("no readable QR code in the image")]
    NoCode,
}

/// A QR code of `text` as a PNG: 4 pixels a module, a 4-module quiet zone, error correction M.
/// `text` as a QR code in SVG, for a page to print: black modules on white, `side` pixels square.
pub fn encode_svg(text: &str, side: u32) -> Result<String, String> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).map_err(|e| e.to_string())?;
    let document = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(side, side).build();
    // Inline in HTML: the element alone, without the XML declaration.
    let start = document.find("<svg").ok_or("no svg element")?;
    Ok(document[start..].to_string())
}

pub fn encode_png(text: &str) -> Result<Vec<u8>, String> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).map_err(|e| e.to_string())?;
    let (modules, scale, margin) = (code.width(), 4, 4);
    let side = (modules + 2 * margin) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (i % modules + margin, i / modules + margin);
            for dy in 0..scale {
                let row = (y * scale + dy) * side;
                pixels[row + x * scale..row + x * scale + scale].fill(0);
            }
        }
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(png)
}

/// Whether `bytes` start like a PNG or a JPEG file.
pub fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// The text of the first QR code found in the image.
pub fn decode(bytes: &[u8]) -> Result<String, QrImageError> {
    let (width, height, grey) = if bytes.starts_with(b"\x89PNG") { png_grey(bytes)? } else { jpeg_grey(bytes)? };
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .ok_or(QrImageError::NoCode)
}

fn check_size(width: u64, height: u64) -> Result<(), QrImageError> {
    if width.saturating_mul(height) > MAX_PIXELS { Err(QrImageError::TooLarge(width, height)) } else { Ok(()) }
}

fn png_grey(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), QrImageError> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|_| QrImageError::NotAnImage)?;
    let (width, height) = (reader.info().width, reader.info().height);
    check_size(u64::from(width), u64::from(height))?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or(QrImageError::NotAnImage)?];
    let frame = reader.next_frame(&mut buf).map_err(|_| QrImageError::NotAnImage)?;
    let channels = frame.color_type.samples();
    let grey = buf[..frame.line_size * frame.height as usize]
        .chunks(frame.line_size)
        .flat_map(|line| line.chunks(channels).take(frame.width as usize).map(luma))
        .collect();
    Ok((frame.width as usize, frame.height as usize, grey))
}

fn jpeg_grey(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), QrImageError> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(|_| QrImageError::NotAnImage)?;
    let info = decoder.info().ok_or(QrImageError::NotAnImage)?;
    check_size(u64::from(info.width), u64::from(info.height))?;
    let pixels = decoder.decode().map_err(|_| QrImageError::NotAnImage)?;
    let channels = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::L16 => 2,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        jpeg_decoder::PixelFormat::CMYK32 => 4,
    };
    let grey = pixels.chunks(channels).map(luma).collect();
    Ok((usize::from(info.width), usize::from(info.height), grey))
}

/// The grey level of a pixel of 1 (grey), 2 (grey + alpha or 16-bit grey), 3 (RGB) or 4 (RGBA,
/// CMYK) samples.
fn luma(px: &[u8]) -> u8 {
    match px {
        [r, g, b, ..] => ((u32::from(*r) * 299 + u32::from(*g) * 587 + u32::from(*b) * 114) / 1000) as u8,
        [grey, ..] => *grey,
        [] => 255,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qr_png_decodes_and_bombs_and_non_images_are_refused() {
        let text = "ZC1:HELLO-QR";
        let png = encode_png(text).unwrap();
        assert!(is_image(&png));
        assert_eq!(decode(&png).unwrap(), text);
        assert_eq!(decode(b"\x89PNG\r\n\x1a\nbroken"), Err(QrImageError::NotAnImage));
        assert!(!is_image(b"{\"a\": 1}"));
        // A 5,000 × 5,000 PNG header is refused before its pixels are decoded.
        let mut big = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut big, 5000, 5000);
            encoder.set_color(png::ColorType::Grayscale);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&vec![255u8; 5000 * 5000]).unwrap();
        }
        assert_eq!(decode(&big), Err(QrImageError::TooLarge(5000, 5000)));
    }
}
