using System.Collections.Concurrent;
using System.Diagnostics;
using Salient.Explain;
using Salient.Imaging;
using Salient.Models;

namespace Salient.Tests.Hardening;

/// <summary>
/// Mutates the small fixture models and image crops (byte flips, truncations, inserted bytes,
/// protobuf varint and PNG chunk-length corruptions) and loads, predicts and explains them. Every
/// failure must be a one-line <see cref="SalientException"/>; anything else is recorded (type and
/// message), as is a case that runs past the per-case timeout. Seeded: a run is reproducible.
/// </summary>
internal sealed class Fuzzer
{
    public sealed record Report(int Cases, int Ok, int Refused, int Hangs, TimeSpan Elapsed,
        IReadOnlyDictionary<string, int> ExceptionsByType, IReadOnlyList<string> Problems, IReadOnlyDictionary<string, int> Messages);

    private static readonly string[] ModelSeeds = ["convnet.onnx", "mobilenetlike.onnx", "tinyvit.onnx"];
    private readonly List<(string Kind, string Ext, byte[] Bytes)> _seeds = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("salient-fuzz").FullName;
    private readonly RgbImage _image;

    public Fuzzer()
    {
        foreach (var name in ModelSeeds)
            _seeds.Add(("model", ".onnx", File.ReadAllBytes(TestPaths.Fixture("grad", name))));
        // Small crops of the shared sample image, as PNG (the decoder's own limits are tested elsewhere).
        var both = ImageLoader.Load(TestPaths.SharedImage("both.png"));
        _image = Crop(both, 100, 60, 32, 32);
        foreach (var (x, y, s) in new[] { (100, 60, 32), (10, 10, 16), (150, 120, 24) })
            _seeds.Add(("image", ".png", Salient.Rendering.ImageWriter.EncodePng(Crop(both, x, y, s, s))));
    }

    private static RgbImage Crop(RgbImage img, int x0, int y0, int w, int h)
    {
        var data = new float[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var (r, g, b) = img.GetPixel(Math.Min(x0 + x, img.Width - 1), Math.Min(y0 + y, img.Height - 1));
                int i = (y * w + x) * 3;
                data[i] = r; data[i + 1] = g; data[i + 2] = b;
            }
        return new RgbImage(w, h, data);
    }

    public static byte[] Mutate(byte[] seed, Random rng)
    {
        var b = (byte[])seed.Clone();
        switch (rng.Next(6))
        {
            case 0: // flip a few bytes
                for (int k = rng.Next(1, 9); k > 0; k--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1: // random bytes
                for (int k = rng.Next(1, 5); k > 0; k--) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                return b;
            case 2: // truncate
                return b[..rng.Next(0, b.Length)];
            case 3: // insert bytes
            {
                int at = rng.Next(b.Length);
                var ins = new byte[rng.Next(1, 16)];
                rng.NextBytes(ins);
                return [.. b[..at], .. ins, .. b[at..]];
            }
            case 4: // a huge or odd varint (protobuf lengths, dims, counts)
            {
                int at = rng.Next(b.Length);
                byte[] v = rng.Next(4) switch
                {
                    0 => [0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
                    1 => [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
                    2 => [0x80, 0x80, 0x80, 0x80, 0x08],
                    _ => [0x00],
                };
                for (int i = 0; i < v.Length && at + i < b.Length; i++) b[at + i] = v[i];
                return b;
            }
            default: // a length field: PNG chunk lengths are big-endian uint32 at 8, 33, …; elsewhere any 4 bytes
            {
                int at = b.Length > 12 && b[0] == 0x89 ? (rng.Next(2) == 0 ? 8 : 33) : rng.Next(b.Length);
                uint len = rng.Next(3) switch { 0 => 0xFFFFFFFF, 1 => 0x7FFFFFFF, _ => (uint)rng.Next() };
                for (int i = 0; i < 4 && at + i < b.Length; i++) b[at + i] = (byte)(len >> (24 - 8 * i));
                return b;
            }
        }
    }

    /// <summary>Runs up to <paramref name="cases"/> cases or until <paramref name="budget"/> is spent.</summary>
    public Report Run(int cases, TimeSpan budget, int seed, TimeSpan perCase)
    {
        var rng = new Random(seed);
        var byType = new ConcurrentDictionary<string, int>();
        var messages = new Dictionary<string, int>();
        var problems = new List<string>();
        int ok = 0, refused = 0, hangs = 0, done = 0;
        var watch = Stopwatch.StartNew();
        using var imageModel = TestPaths.Load(TestPaths.Fixture("grad", "convnet.onnx"), new ModelOptions { Preprocessing = Preprocessing.Raw, MaxPixels = 1_000_000 });
        for (; done < cases && watch.Elapsed < budget; done++)
        {
            var (kind, ext, bytes) = _seeds[rng.Next(_seeds.Count)];
            var mutated = Mutate(bytes, rng);
            var path = Path.Combine(_dir, $"case{done}{ext}");
            File.WriteAllBytes(path, mutated);
            string method = rng.Next(3) switch { 0 => "saliency", 1 => "gradcam", _ => "cam" };
            int caseNo = done;
            var task = Task.Run(() => kind == "model" ? RunModel(path, method) : RunImage(imageModel, path));
            if (!task.Wait(perCase))
            {
                hangs++;
                problems.Add($"case {caseNo} ({kind}, seed {seed}): no answer within {perCase.TotalSeconds:0} s");
                continue; // abandoned; the file stays for inspection
            }
            var error = task.Result;
            File.Delete(path);
            if (error is null) { ok++; continue; }
            byType.AddOrUpdate(error.GetType().Name, 1, (_, n) => n + 1);
            if (error is SalientException && !error.Message.Contains('\n'))
            {
                refused++;
                // The message with file names and numbers blanked: which checks the cases hit.
                var shape = System.Text.RegularExpressions.Regex.Replace(error.Message.Replace(_dir, ""), "'[^']*'|[0-9]+", "…");
                messages[shape] = messages.GetValueOrDefault(shape) + 1;
                continue;
            }
            var keep = Path.Combine(_dir, $"problem{caseNo}{ext}");
            File.WriteAllBytes(keep, mutated);
            problems.Add($"case {caseNo} ({kind}, {keep}): {error.GetType().Name}: {error.Message.Split('\n')[0]}");
        }
        return new Report(done, ok, refused, hangs, watch.Elapsed, new Dictionary<string, int>(byType), problems, messages);
    }

    private Exception? RunModel(string path, string method)
    {
        try
        {
            using var m = TestPaths.Load(path, new ModelOptions { Preprocessing = Preprocessing.Raw, MaxPixels = 1_000_000 });
            var batch = Batch(m, m.Prepare(_image));
            m.Predict(batch, 3);
            Explainer.Explain(m, batch, new ExplainRequest { Methods = [method] });
            return null;
        }
        catch (Exception e) { return e; }
    }

    /// <summary>As many copies as a fixed-batch model takes (the grad fixtures are batch 2).</summary>
    private static PreparedInput[] Batch(SalientModel m, PreparedInput item) =>
        Enumerable.Repeat(item, m.Input.DynamicBatch ? 1 : Math.Clamp(m.Input.FixedBatch, 1, 4)).ToArray();

    private static Exception? RunImage(SalientModel model, string path)
    {
        try
        {
            var img = model.LoadImage(path);
            model.Predict(Batch(model, model.Prepare(img)), 3);
            return null;
        }
        catch (Exception e) { return e; }
    }
}
