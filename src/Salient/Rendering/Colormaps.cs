namespace Salient.Rendering;

/// <summary>Color scales for heatmaps.</summary>
public enum Colormap
{
    /// <summary>OpenCV's COLORMAP_JET (the classic Grad-CAM look).</summary>
    Jet,

    /// <summary>Google's Turbo.</summary>
    Turbo,

    /// <summary>matplotlib's viridis.</summary>
    Viridis,

    /// <summary>matplotlib's inferno.</summary>
    Inferno,

    /// <summary>Black to white.</summary>
    Gray,

    /// <summary>
    /// Moreland's diverging cool-warm (blue → light gray → red), matplotlib's "coolwarm": for signed
    /// maps, with 0 at the middle gray.
    /// </summary>
    Coolwarm,
}

/// <summary>256-entry lookup tables for the <see cref="Colormap"/>s.</summary>
internal static class Colormaps
{
    /// <summary>Case-insensitive; throws <see cref="SalientException"/> listing the valid names.</summary>
    public static Colormap Parse(string name)
    {
        var t = (name ?? "").Trim();
        foreach (var cm in Enum.GetValues<Colormap>())
            if (string.Equals(cm.ToString(), t, StringComparison.OrdinalIgnoreCase))
                return cm;
        throw new SalientException($"unknown colormap '{name}'; valid colormaps: {Names}");
    }

    /// <summary>Lower-case names, comma separated (for help text).</summary>
    public static string Names => string.Join(", ", Enum.GetNames<Colormap>().Select(n => n.ToLowerInvariant()));

    /// <summary>
    /// The color of <paramref name="v"/> in [0, 1] (clamped; NaN counts as 0): the table entry
    /// round(v · 255).
    /// </summary>
    public static (byte R, byte G, byte B) Map(Colormap map, float v)
    {
        var lut = Table(map);
        int i = Index(v);
        return (lut[3 * i], lut[3 * i + 1], lut[3 * i + 2]);
    }

    /// <summary>The table entry used for value v: round(clamp(v, 0, 1) · 255), NaN → 0.</summary>
    public static int Index(float v)
    {
        if (!(v > 0f)) return 0;
        if (v >= 1f) return 255;
        return (int)(v * 255f + 0.5f);
    }

    /// <summary>The 256 × RGB table (768 bytes) of a colormap; do not modify.</summary>
    internal static byte[] Table(Colormap map) => map switch
    {
        Colormap.Jet => JetLut.Value,
        Colormap.Turbo => TurboLut.Value,
        Colormap.Viridis => ViridisLut.Value,
        Colormap.Inferno => InfernoLut.Value,
        Colormap.Gray => GrayLut.Value,
        Colormap.Coolwarm => CoolwarmLut.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(map), map, "unknown colormap"),
    };

    /// <summary>True for colormaps whose middle means zero (signed maps are shown centred there).</summary>
    public static bool IsDiverging(Colormap map) => map == Colormap.Coolwarm;

    private static readonly Lazy<byte[]> JetLut = new(BuildJet);
    private static readonly Lazy<byte[]> CoolwarmLut = new(BuildCoolwarm);
    private static readonly Lazy<byte[]> TurboLut = new(() => FromHex(TurboHex));
    private static readonly Lazy<byte[]> ViridisLut = new(() => FromHex(ViridisHex));
    private static readonly Lazy<byte[]> InfernoLut = new(() => FromHex(InfernoHex));
    private static readonly Lazy<byte[]> GrayLut = new(() =>
    {
        var t = new byte[768];
        for (int i = 0; i < 256; i++) t[3 * i] = t[3 * i + 1] = t[3 * i + 2] = (byte)i;
        return t;
    });

    /// <summary>
    /// OpenCV's COLORMAP_JET, entry for entry. Its definition is the MATLAB/Octave jet sampled at
    /// v = i/255: r = clamp(1.5 - |4v - 3|), g = clamp(1.5 - |4v - 2|), b = clamp(1.5 - |4v - 1|).
    /// Scaled to 255 almost every entry lands on exactly x.5, so the bytes depend on how OpenCV gets
    /// there: it stores the samples as float32, re-interpolates them in float32 between linspace(0, 1, 256)
    /// breakpoints (y[i-1] + (x[i] - x[i-1])·(y[i] - y[i-1]) / (x[i] - x[i-1])), multiplies by 255 in float32
    /// and rounds half to even. Those steps are repeated here so the table matches OpenCV exactly
    /// (e.g. v=0 → (0, 0, 128), v=0.5 → (130, 255, 126), v=1 → (128, 0, 0)).
    /// </summary>
    private static byte[] BuildJet()
    {
        var lut = new byte[768];
        float step = (1f - 0f) / 255;
        var x = new float[256];
        for (int i = 0; i < 256; i++) x[i] = 0f + i * step;
        ReadOnlySpan<int> centers = [3, 2, 1]; // r, g, b
        var y = new float[256];
        for (int ch = 0; ch < 3; ch++)
        {
            for (int i = 0; i < 256; i++)
            {
                double v = i / 255.0;
                y[i] = (float)Math.Clamp(1.5 - Math.Abs(4 * v - centers[ch]), 0.0, 1.0);
            }
            for (int i = 0; i < 256; i++)
            {
                float yi;
                if (i == 0) yi = y[0];
                else
                {
                    float dx = x[i] - x[i - 1];
                    float dy = y[i] - y[i - 1];
                    float prod = dx * dy;
                    float quot = prod / dx;
                    yi = y[i - 1] + quot;
                }
                float scaled = yi * 255f;
                lut[3 * i + ch] = (byte)Math.Clamp(MathF.Round(scaled, MidpointRounding.ToEven), 0f, 255f);
            }
        }
        return lut;
    }

    /// <summary>
    /// Moreland, "Diverging Color Maps for Scientific Visualization" (2009): the endpoints
    /// sRGB (59, 76, 192) and (180, 4, 38) are interpolated in his Msh space (polar CIELAB, D65) through
    /// an unsaturated white-ish midpoint of magnitude max(M1, M2, 88), with the hue of the unsaturated
    /// end adjusted so the path stays perceptually smooth. This is how matplotlib's coolwarm was made.
    /// </summary>
    private static byte[] BuildCoolwarm()
    {
        var cold = ToMsh(59, 76, 192);
        var warm = ToMsh(180, 4, 38);
        var lut = new byte[768];
        for (int i = 0; i < 256; i++)
        {
            var (r, g, b) = FromMsh(InterpolateMsh(cold, warm, i / 255.0));
            lut[3 * i] = r; lut[3 * i + 1] = g; lut[3 * i + 2] = b;
        }
        return lut;
    }

    private static (double M, double S, double H) InterpolateMsh((double M, double S, double H) a, (double M, double S, double H) b, double t)
    {
        if (a.S > 0.05 && b.S > 0.05 && Math.Abs(a.H - b.H) > Math.PI / 3)
        {
            double mid = Math.Max(Math.Max(a.M, b.M), 88);
            if (t < 0.5) { b = (mid, 0, 0); t *= 2; }
            else { a = (mid, 0, 0); t = 2 * t - 1; }
        }
        if (a.S < 0.05 && b.S > 0.05) a.H = AdjustHue(b, a.M);
        else if (b.S < 0.05 && a.S > 0.05) b.H = AdjustHue(a, b.M);
        return (a.M + t * (b.M - a.M), a.S + t * (b.S - a.S), a.H + t * (b.H - a.H));
    }

    private static double AdjustHue((double M, double S, double H) saturated, double unsaturatedM)
    {
        if (saturated.M >= unsaturatedM) return saturated.H;
        double spin = saturated.S * Math.Sqrt(unsaturatedM * unsaturatedM - saturated.M * saturated.M) / (saturated.M * Math.Sin(saturated.S));
        return saturated.H > -Math.PI / 3 ? saturated.H + spin : saturated.H - spin;
    }

    private const double Xn = 0.95047, Yn = 1.0, Zn = 1.08883; // D65 white

    private static (double M, double S, double H) ToMsh(byte r8, byte g8, byte b8)
    {
        static double Lin(byte c) { double v = c / 255.0; return v <= 0.04045 ? v / 12.92 : Math.Pow((v + 0.055) / 1.055, 2.4); }
        double r = Lin(r8), g = Lin(g8), b = Lin(b8);
        double x = 0.4124 * r + 0.3576 * g + 0.1805 * b;
        double y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        double z = 0.0193 * r + 0.1192 * g + 0.9505 * b;
        static double F(double t) => t > 0.008856 ? Math.Cbrt(t) : 7.787 * t + 16.0 / 116;
        double l = 116 * F(y / Yn) - 16, la = 500 * (F(x / Xn) - F(y / Yn)), lb = 200 * (F(y / Yn) - F(z / Zn));
        double m = Math.Sqrt(l * l + la * la + lb * lb);
        return (m, Math.Acos(l / m), Math.Atan2(lb, la));
    }

    private static (byte R, byte G, byte B) FromMsh((double M, double S, double H) msh)
    {
        double l = msh.M * Math.Cos(msh.S), a = msh.M * Math.Sin(msh.S) * Math.Cos(msh.H), bb = msh.M * Math.Sin(msh.S) * Math.Sin(msh.H);
        double fy = (l + 16) / 116, fx = fy + a / 500, fz = fy - bb / 200;
        static double Inv(double f) => f * f * f > 0.008856 ? f * f * f : (f - 16.0 / 116) / 7.787;
        double x = Xn * Inv(fx), y = Yn * Inv(fy), z = Zn * Inv(fz);
        double r = 3.2406 * x - 1.5372 * y - 0.4986 * z;
        double g = -0.9689 * x + 1.8758 * y + 0.0415 * z;
        double b = 0.0557 * x - 0.2040 * y + 1.0570 * z;
        static byte Gamma(double v)
        {
            v = Math.Clamp(v, 0, 1);
            double s = v <= 0.0031308 ? 12.92 * v : 1.055 * Math.Pow(v, 1 / 2.4) - 0.055;
            return (byte)Math.Round(Math.Clamp(s, 0, 1) * 255);
        }
        return (Gamma(r), Gamma(g), Gamma(b));
    }

    private static byte[] FromHex(string hex)
    {
        var t = Convert.FromHexString(hex);
        if (t.Length != 768) throw new InvalidOperationException("colormap table must have 256 entries");
        return t;
    }

    // The three tables below are matplotlib's published 256-entry colormap data (matplotlib/_cm_listed.py:
    // _viridis_data and _inferno_data by Nathaniel Smith and Stéfan van der Walt, CC0; _turbo_data, Google's
    // Turbo by Anton Mikhailov, Apache-2.0, the same table as OpenCV's COLORMAP_TURBO), each component
    // converted to a byte as round(c · 255). Stored as RRGGBB hex, entry 0 first.
    // (The exact Turbo table is used rather than the polynomial approximation, which is off by up to
    // ~20 levels at the ends, e.g. red 144 instead of 122 at v = 1.)

    private const string ViridisHex =
        "44015444025645045745055946075A46085C460A5D460B5E470D60470E61471063471164471365481467481668481769" +
        "48186A481A6C481B6D481C6E481D6F481F70482071482173482374482475482576482677482878482979472A7A472C7A" +
        "472D7B472E7C472F7D46307E46327E46337F463480453581453781453882443983443A83443B84433D84433E85423F85" +
        "4240864241864142874144874045884046883F47883F48893E49893E4A893E4C8A3D4D8A3D4E8A3C4F8A3C508B3B518B" +
        "3B528B3A538B3A548C39558C39568C38588C38598C375A8C375B8D365C8D365D8D355E8D355F8D34608D34618D33628D" +
        "33638D32648E32658E31668E31678E31688E30698E306A8E2F6B8E2F6C8E2E6D8E2E6E8E2E6F8E2D708E2D718E2C718E" +
        "2C728E2C738E2B748E2B758E2A768E2A778E2A788E29798E297A8E297B8E287C8E287D8E277E8E277F8E27808E26818E" +
        "26828E26828E25838E25848E25858E24868E24878E23888E23898E238A8D228B8D228C8D228D8D218E8D218F8D21908D" +
        "21918C20928C20928C20938C1F948C1F958B1F968B1F978B1F988B1F998A1F9A8A1E9B8A1E9C891E9D891F9E891F9F88" +
        "1FA0881FA1881FA1871FA28720A38620A48621A58521A68522A78522A88423A98324AA8325AB8225AC8226AD8127AD81" +
        "28AE8029AF7F2AB07F2CB17E2DB27D2EB37C2FB47C31B57B32B67A34B67935B77937B87838B9773ABA763BBB753DBC74" +
        "3FBC7340BD7242BE7144BF7046C06F48C16E4AC16D4CC26C4EC36B50C46A52C56954C56856C66758C7655AC8645CC863" +
        "5EC96260CA6063CB5F65CB5E67CC5C69CD5B6CCD5A6ECE5870CF5773D05675D05477D1537AD1517CD2507FD34E81D34D" +
        "84D44B86D54989D5488BD6468ED64590D74393D74195D84098D83E9BD93C9DD93BA0DA39A2DA37A5DB36A8DB34AADC32" +
        "ADDC30B0DD2FB2DD2DB5DE2BB8DE29BADE28BDDF26C0DF25C2DF23C5E021C8E020CAE11FCDE11DD0E11CD2E21BD5E21A" +
        "D8E219DAE319DDE318DFE318E2E418E5E419E7E419EAE51AECE51BEFE51CF1E51DF4E61EF6E620F8E621FBE723FDE725";

    private const string InfernoHex =
        "00000401000501010601010802010A02020C02020E03021004031204031405041706041907051B08051D09061F0A0722" +
        "0B07240C08260D08290E092B10092D110A30120A32140B34150B37160B39180C3C190C3E1B0C411C0C431E0C451F0C48" +
        "210C4A230C4C240C4F260C51280B53290B552B0B572D0B592F0A5B310A5C320A5E340A5F3609613809623909633B0964" +
        "3D09653E0966400A67420A68440A68450A69470B6A490B6A4A0C6B4C0C6B4D0D6C4F0D6C510E6C520E6D540F6D550F6D" +
        "57106E59106E5A116E5C126E5D126E5F136E61136E62146E64156E65156E67166E69166E6A176E6C186E6D186E6F196E" +
        "71196E721A6E741A6E751B6E771C6D781C6D7A1D6D7C1D6D7D1E6D7F1E6C801F6C82206C84206B85216B87216B88226A" +
        "8A226A8C23698D23698F24699025689225689326679526679727669827669A28659B29649D29649F2A63A02A63A22B62" +
        "A32C61A52C60A62D60A82E5FA92E5EAB2F5EAD305DAE305CB0315BB1325AB3325AB43359B63458B73557B93556BA3655" +
        "BC3754BD3853BF3952C03A51C13A50C33B4FC43C4EC63D4DC73E4CC83F4BCA404ACB4149CC4248CE4347CF4446D04545" +
        "D24644D34743D44842D54A41D74B3FD84C3ED94D3DDA4E3CDB503BDD513ADE5238DF5337E05536E15635E25734E35933" +
        "E45A31E55C30E65D2FE75E2EE8602DE9612BEA632AEB6429EB6628EC6726ED6925EE6A24EF6C23EF6E21F06F20F1711F" +
        "F1731DF2741CF3761BF37819F47918F57B17F57D15F67E14F68013F78212F78410F8850FF8870EF8890CF98B0BF98C0A" +
        "F98E09FA9008FA9207FA9407FB9606FB9706FB9906FB9B06FB9D07FC9F07FCA108FCA309FCA50AFCA60CFCA80DFCAA0F" +
        "FCAC11FCAE12FCB014FCB216FCB418FBB61AFBB81DFBBA1FFBBC21FBBE23FAC026FAC228FAC42AFAC62DF9C72FF9C932" +
        "F9CB35F8CD37F8CF3AF7D13DF7D340F6D543F6D746F5D949F5DB4CF4DD4FF4DF53F4E156F3E35AF3E55DF2E661F2E865" +
        "F2EA69F1EC6DF1ED71F1EF75F1F179F2F27DF2F482F3F586F3F68AF4F88EF5F992F6FA96F8FB9AF9FC9DFAFDA1FCFFA4";

    private const string TurboHex =
        "30123B32154333184A341B51351E5836215F37246638276D392A733A2D793B2F803C32863D358B3E38913F3B973F3E9C" +
        "4040A24143A74146AC4249B1424BB5434EBA4451BF4454C34456C74559CB455CCF455ED34661D64664DA4666DD4669E0" +
        "466BE3476EE64771E94773EB4776EE4778F0477BF2467DF44680F64682F84685FA4687FB458AFC458CFD448FFE4391FE" +
        "4294FF4196FF4099FF3E9BFE3D9EFE3BA0FD3AA3FC38A5FB37A8FA35ABF833ADF731AFF52FB2F42EB4F22CB7F02AB9EE" +
        "28BCEB27BEE925C0E723C3E422C5E220C7DF1FC9DD1ECBDA1CCDD81BD0D51AD2D21AD4D019D5CD18D7CA18D9C818DBC5" +
        "18DDC218DEC018E0BD19E2BB19E3B91AE4B61CE6B41DE7B21FE9AF20EAAC22EBAA25ECA727EEA42AEFA12CF09E2FF19B" +
        "32F29835F39438F4913CF58E3FF68A43F78746F8844AF8804EF97D52FA7A55FA7659FB735DFC6F61FC6C65FD6969FD66" +
        "6DFE6271FE5F75FE5C79FE597DFF5680FF5384FF5188FF4E8BFF4B8FFF4992FF4796FE4499FE429CFE409FFD3FA1FD3D" +
        "A4FC3CA7FC3AA9FB39ACFB38AFFA37B1F936B4F836B7F735B9F635BCF534BEF434C1F334C3F134C6F034C8EF34CBED34" +
        "CDEC34D0EA34D2E935D4E735D7E535D9E436DBE236DDE037DFDF37E1DD37E3DB38E5D938E7D739E9D539EBD339ECD13A" +
        "EECF3AEFCD3AF1CB3AF2C93AF4C73AF5C53AF6C33AF7C13AF8BE39F9BC39FABA39FBB838FBB637FCB336FCB136FDAE35" +
        "FDAC34FEA933FEA732FEA431FEA130FE9E2FFE9B2DFE992CFE962BFE932AFE9029FD8D27FD8A26FC8725FC8423FB8122" +
        "FB7E21FA7B1FF9781EF9751DF8721CF76F1AF66C19F56918F46617F36315F26014F15D13F05B12EF5811ED5510EC530F" +
        "EB500EEA4E0DE84B0CE7490CE5470BE4450AE2430AE14109DF3F08DD3D08DC3B07DA3907D83706D63506D43305D23105" +
        "D02F05CE2D04CC2B04CA2A04C82803C52603C32503C12302BE2102BC2002B91E02B71D02B41B01B21A01AF1801AC1701" +
        "A91601A71401A41301A112019E10019B0F01980E01950D01920B018E0A018B09028808028507028106027E05027A0403";
}
