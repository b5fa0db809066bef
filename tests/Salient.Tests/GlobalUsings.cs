global using Salient.Core;
