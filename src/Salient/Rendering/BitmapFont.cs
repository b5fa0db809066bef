namespace Salient.Rendering;

/// <summary>
/// A tiny built-in 5×7 pixel font for printable ASCII, used for titles when no TrueType font can be
/// found (the dependency-free Skia build has no fontconfig, so its default typeface draws nothing).
/// Characters outside printable ASCII are drawn as '?'.
/// </summary>
internal static class BitmapFont
{
    public const int GlyphWidth = 5;
    public const int GlyphHeight = 7;

    /// <summary>Horizontal distance between glyph origins at scale 1 (one column of spacing).</summary>
    public const int Advance = GlyphWidth + 1;

    /// <summary>Row bits of one glyph (bit 4 = leftmost column), or those of '?' for other characters.</summary>
    public static ReadOnlySpan<byte> Rows(char c)
    {
        if (c < ' ' || c > '~') c = '?';
        return Glyphs.AsSpan((c - ' ') * GlyphHeight, GlyphHeight);
    }

    /// <summary>Whether pixel (x, y) of glyph c is set.</summary>
    public static bool IsSet(char c, int x, int y) =>
        (uint)x < GlyphWidth && (uint)y < GlyphHeight && (Rows(c)[y] & (1 << (GlyphWidth - 1 - x))) != 0;

    /// <summary>Width in pixels of a string drawn at the given scale.</summary>
    public static int MeasureWidth(string text, int scale) =>
        text.Length == 0 ? 0 : (text.Length * Advance - 1) * scale;

    /// <summary>Draws text into an RGBA buffer with its top-left at (x, y), clipped to the buffer.</summary>
    public static void Draw(byte[] rgba, int width, int height, string text, int x, int y, int scale, (byte R, byte G, byte B) color)
    {
        for (int n = 0; n < text.Length; n++)
        {
            int gx = x + n * Advance * scale;
            var rows = Rows(text[n]);
            for (int row = 0; row < GlyphHeight; row++)
            {
                for (int col = 0; col < GlyphWidth; col++)
                {
                    if ((rows[row] & (1 << (GlyphWidth - 1 - col))) == 0) continue;
                    for (int sy = 0; sy < scale; sy++)
                    {
                        int py = y + row * scale + sy;
                        if ((uint)py >= (uint)height) continue;
                        for (int sx = 0; sx < scale; sx++)
                        {
                            int px = gx + col * scale + sx;
                            if ((uint)px >= (uint)width) continue;
                            int o = (py * width + px) * 4;
                            rgba[o] = color.R;
                            rgba[o + 1] = color.G;
                            rgba[o + 2] = color.B;
                            rgba[o + 3] = 255;
                        }
                    }
                }
            }
        }
    }

    // 95 glyphs, ' ' (0x20) to '~' (0x7E); each is 7 rows of two hex digits, top row first.
    private static readonly byte[] Glyphs = Convert.FromHexString(
        "00000000000000040404040400040A0A00000000000A0A1F0A1F0A0A040F140E051E0418190204081303" +
        "0C12140815120D0404000000000002040808080402080402020204080004150E1504000004041F040400" +
        "000000000C04080000001F00000000000000000C0C000102040810000E11131519110E040C040404040E" +
        "0E11010204081F1F02040201110E02060A121F02021F101E0101110E0608101E11110E1F010204080808" +
        "0E11110E11110E0E11110F01020C000C0C000C0C00000C0C000C04080204081008040200001F001F0000" +
        "080402010204080E1101020400040E11010D15150E0E11111F1111111E11111E11111E0E11101010110E" +
        "1C12111111121C1F10101E10101F1F10101E1010100E11101711110F1111111F1111110E04040404040E" +
        "0702020202120C111214181412111010101010101F111B1515111111111119151311110E11111111110E" +
        "1E11111E1010100E11111115120D1E11111E1412110F10100E01011E1F0404040404041111111111110E" +
        "11111111110A041111111515150A11110A040A11111111110A0404041F01020408101F0E08080808080E" +
        "001008040201000E02020202020E040A11000000000000000000001F0804020000000000000E010F110F" +
        "1010161911111E00000E1010110E01010D1311110F00000E111F100E0609081C080808000F11110F010E" +
        "1010161911111104000C0404040E0200060202120C101012141814120C04040404040E00001A15151111" +
        "0000161911111100000E1111110E00001E111E101000000D130F01010000161910101000000E100E011E" +
        "08081C080809060000111111130D00001111110A040000111115150A0000110A040A11000011110F010E" +
        "00001F0204081F02040408040402040404040404040804040204040800000815020000");
}
