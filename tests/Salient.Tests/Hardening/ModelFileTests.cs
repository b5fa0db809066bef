using Google.Protobuf;
using Salient.Models;
using Salient.Onnx;
using Salient.Onnx.Proto;
using Salient.Tests.Perturbation;
using Xunit;

namespace Salient.Tests.Hardening;

/// <summary>
/// Issue 15, items 1, 2, 6, 7, 8: external data stays inside the model's folder (whole path segments,
/// symbolic links resolved), offsets and lengths are checked against the file, tensor sizes use checked
/// 64-bit arithmetic, and non-regular files are refused before anything is read.
/// </summary>
public class ModelFileTests
{
    /// <summary>The tiny linear model with its weight "W" moved to external data at <paramref name="location"/>.</summary>
    private static (string Dir, string ModelPath) ExternalModel(string location, string? offset = null, string? length = null, bool writeData = true)
    {
        var (path, w, _) = TinyModels.Linear(2, 7);
        var dir = Path.GetDirectoryName(path)!;
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var t = proto.Graph.Initializer.Single(i => i.Name == "W");
        var bytes = t.RawData.ToByteArray();
        if (t.RawData.IsEmpty) { bytes = new byte[w.Length * 4]; Buffer.BlockCopy(w, 0, bytes, 0, bytes.Length); }
        if (writeData)
        {
            var dataPath = Path.GetFullPath(Path.Combine(dir, location));
            Directory.CreateDirectory(Path.GetDirectoryName(dataPath)!);
            File.WriteAllBytes(dataPath, bytes);
        }
        t.RawData = ByteString.Empty;
        t.FloatData.Clear();
        t.DataLocation = TensorProto.Types.DataLocation.External;
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        if (offset is not null) t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset });
        if (length is not null) t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length });
        File.WriteAllBytes(path, proto.ToByteArray());
        return (dir, path);
    }

    private static SalientException Refused(string path) =>
        Assert.Throws<SalientException>(() => { using var m = TinyModels.Load(path); });

    [Fact]
    public void External_data_inside_the_folder_loads()
    {
        var (_, path) = ExternalModel("weights.bin");
        using var m = TinyModels.Load(path);
        Assert.Equal(2, m.Structure().ClassCount);
    }

    private static void Relocate(string modelPath, string location)
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
        proto.Graph.Initializer.Single(i => i.Name == "W").ExternalData.Single(kv => kv.Key == "location").Value = location;
        File.WriteAllBytes(modelPath, proto.ToByteArray());
    }

    [Fact]
    public void External_data_in_a_sibling_folder_sharing_the_name_prefix_is_refused()
    {
        var (dir, path) = ExternalModel("w.bin");
        // models/ → models_secret/secret.bin: a plain StartsWith(dir) would accept it.
        var secret = dir.TrimEnd(Path.DirectorySeparatorChar) + "_secret";
        Directory.CreateDirectory(secret);
        File.Copy(Path.Combine(dir, "w.bin"), Path.Combine(secret, "secret.bin"));
        Relocate(path, $"../{Path.GetFileName(secret)}/secret.bin");
        Assert.Contains("outside the model's folder", Refused(path).Message);
    }

    [Fact]
    public void External_data_through_a_symlink_out_of_the_folder_is_refused()
    {
        var outside = Directory.CreateTempSubdirectory("salient-outside").FullName;
        File.WriteAllBytes(Path.Combine(outside, "secret.bin"), new byte[2 * 192 * 4]);
        var (dir, path) = ExternalModel("link.bin", writeData: false);
        File.CreateSymbolicLink(Path.Combine(dir, "link.bin"), Path.Combine(outside, "secret.bin"));
        Assert.Contains("outside the model's folder", Refused(path).Message);

        // A linked folder inside the model's folder that points outside it.
        var (dir2, path2) = ExternalModel("sub/secret.bin", writeData: false);
        Directory.CreateSymbolicLink(Path.Combine(dir2, "sub"), outside);
        Assert.Contains("outside the model's folder", Refused(path2).Message);
    }

    [Fact]
    public void External_data_through_a_symlink_inside_the_folder_loads()
    {
        var (dir, path) = ExternalModel("real.bin");
        Relocate(path, "alias.bin");
        File.CreateSymbolicLink(Path.Combine(dir, "alias.bin"), "real.bin");
        using var m = TinyModels.Load(path);
        Assert.Equal(2, m.Structure().ClassCount);
    }

    [Theory]
    [InlineData("abc", null, "offset")]
    [InlineData("-8", null, "offset")]
    [InlineData("99999999", null, "offset")]
    [InlineData(null, "-1", "length")]
    [InlineData(null, "xyz", "length")]
    [InlineData("0", "99999999", "length")]
    [InlineData("9223372036854775807", "16", "offset")]
    public void External_offset_and_length_are_checked_against_the_file(string? offset, string? length, string word)
    {
        var (_, path) = ExternalModel("w.bin", offset, length);
        var e = Refused(path);
        Assert.Contains(word, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static string WithDims(long[] dims, byte[]? raw = null, int floats = 0)
    {
        var (path, _, _) = TinyModels.Linear(2, 9);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var t = new TensorProto { Name = "Extra", DataType = (int)DataType.Float };
        t.Dims.AddRange(dims);
        if (raw is not null) t.RawData = ByteString.CopyFrom(raw);
        for (int i = 0; i < floats; i++) t.FloatData.Add(i);
        proto.Graph.Initializer.Add(t);
        File.WriteAllBytes(path, proto.ToByteArray());
        return path;
    }

    [Theory]
    [InlineData(new long[] { 4294967296, 4294967296 })]          // 2^64 wraps to 0
    [InlineData(new long[] { 3037000500, 3037000500, 4 })]       // overflows int64
    [InlineData(new long[] { 2147483647 })]                      // 2^31−1 elements, 4 bytes present
    [InlineData(new long[] { 1 << 20, 1 << 20 })]                // 2^40 elements, no data
    public void Tensor_element_counts_are_checked_before_allocating(long[] dims)
    {
        var path = WithDims(dims, raw: new byte[4]);
        var e = Refused(path);
        Assert.Contains("Extra", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        var path2 = WithDims(dims, floats: 1);
        Assert.Contains("Extra", Refused(path2).Message);
    }

    [Fact]
    public void Element_count_is_checked_64_bit()
    {
        Assert.Throws<SalientException>(() => Tensor.CheckedElementCount([4294967296, 4294967296], "t"));
        Assert.Throws<SalientException>(() => Tensor.CheckedElementCount([-1, 4], "t"));
        Assert.Equal(12, Tensor.CheckedElementCount([3, 4], "t"));
        Assert.Throws<SalientException>(() => Tensor.NewArray(DataType.Float, -1));
        Assert.Throws<SalientException>(() => Tensor.NewArray(DataType.Float, (long)int.MaxValue + 1));
    }

    [Fact]
    public void Non_regular_files_are_refused_up_front()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        if (File.Exists("/dev/zero"))
        {
            Assert.Contains("not a regular file", Assert.Throws<SalientException>(() => SalientModel.Load("/dev/zero")).Message);
            Assert.Contains("not a regular file", Assert.Throws<SalientException>(() => Salient.Imaging.ImageLoader.Load("/dev/zero")).Message);
        }
        var dir = Directory.CreateTempSubdirectory("salient-fifo").FullName;
        var fifo = Path.Combine(dir, "pipe.onnx");
        if (OperatingSystem.IsLinux() && System.Diagnostics.Process.Start("mkfifo", fifo) is { } p && p.WaitForExit(5000) && File.Exists(fifo))
        {
            Assert.Contains("not a regular file", Assert.Throws<SalientException>(() => SalientModel.Load(fifo)).Message);
            Assert.Contains("not a regular file", Assert.Throws<SalientException>(() => Salient.Imaging.ImageLoader.Load(fifo)).Message);
        }
        Assert.Contains("directory", Assert.Throws<SalientException>(() => SalientModel.Load(dir)).Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }
}
