"""GLSL sources of the stage: the mesh shaders that replace pyrender's, and the FXAA pass.

Shading (:data:`MESH_FRAG`): hemispherical sky/ground ambient + Lambert + Blinn-Phong from
pyrender's directional lights; on the floor only (the one primitive with texture coordinates,
which hold world x, z in metres) a procedural grid anti-aliased with ``fwidth``, soft contact
shadows (Gaussian blobs under the pelvis and feet, fading with height), the beat flash, and
distance fog into the background colour. The extra uniforms (``u_*``) are set directly on
the compiled programs (:meth:`render.scene.stage.DanceScene._set_uniforms`).

:data:`MESH_VERT` is pyrender's ``mesh.vert`` without its per-vertex 4x4 inverse;
:data:`FXAA_VERT` / :data:`FXAA_FRAG` are the one anti-aliasing pass that
:class:`render.scene.opengl._FramebufferReader` draws.
"""

MESH_FRAG = """#version 330 core
struct DirectionalLight { vec3 color; float intensity; vec3 direction; };
struct Material {
    vec3 emissive_factor;
#ifdef USE_METALLIC_MATERIAL
    vec4 base_color_factor;
    float metallic_factor;
    float roughness_factor;
#endif
#ifdef HAS_BASE_COLOR_TEX
    sampler2D base_color_texture;
#endif
};
uniform Material material;
uniform DirectionalLight directional_lights[MAX_DIRECTIONAL_LIGHTS];
uniform int n_directional_lights;
uniform vec3 cam_pos;
uniform vec3 ambient_light;
uniform vec4 u_shadow[3];      // x, z, radius, strength
uniform float u_flash;         // 0..1
uniform vec2 u_flash_center;   // x, z
uniform vec2 u_fog;            // start, end (metres from the camera)
uniform vec3 u_fog_color;
uniform vec4 u_grid;           // spacing, line width, flash radius, flash strength
const vec3 GRID_COLOR = vec3(%(grid)s);
const vec3 FLASH_COLOR = vec3(%(flash)s);

in vec3 frag_position;
#ifdef NORMAL_LOC
in vec3 frag_normal;
#endif
#ifdef TEXCOORD_0_LOC
in vec2 uv_0;
#endif
#ifdef COLOR_0_LOC
in vec4 color_multiplier;
#endif
out vec4 frag_color;

void main()
{
    vec4 base = vec4(1.0);
#ifdef USE_METALLIC_MATERIAL
    base = material.base_color_factor;
    float gloss = 1.0 - material.roughness_factor;
#else
    float gloss = 0.3;
#endif
#ifdef HAS_BASE_COLOR_TEX
    base *= texture(material.base_color_texture, uv_0);
#endif
#ifdef COLOR_0_LOC
    base *= color_multiplier;
#endif
    vec3 v = normalize(cam_pos - frag_position);
#ifdef NORMAL_LOC
    vec3 n = normalize(frag_normal);
#else
    vec3 n = vec3(0.0, 1.0, 0.0);
#endif
#ifdef TEXCOORD_0_LOC
    // floor: grid lines, contact shadows and the beat flash, in world metres
    vec2 p = uv_0;
    vec2 w = max(fwidth(p), vec2(1e-6));
    vec2 d = abs(fract(p / u_grid.x - 0.5) - 0.5) * u_grid.x;
    vec2 cover = 1.0 - smoothstep(vec2(0.5 * u_grid.y), vec2(0.5 * u_grid.y) + w, d);
    float fade = clamp(1.5 - 0.5 * max(w.x, w.y) / u_grid.y, 0.0, 1.0);
    base.rgb = mix(base.rgb, GRID_COLOR, max(cover.x, cover.y) * fade);
    float shade = 1.0;
    for (int i = 0; i < 3; i++) {
        vec2 q = (p - u_shadow[i].xy) / u_shadow[i].z;
        shade *= 1.0 - u_shadow[i].w * exp(-2.0 * dot(q, q));
    }
    base.rgb *= shade;
    if (u_flash > 0.0) {
        vec2 f = (p - u_flash_center) / u_grid.z;
        base.rgb = mix(base.rgb, FLASH_COLOR, u_flash * u_grid.w * exp(-dot(f, f)));
    }
    // The floor faces the sky and the lights are directional: its lighting is one constant,
    // folded into FLOOR_COLOR, so the floor skips the lighting below.
    float fog_floor = smoothstep(u_fog.x, u_fog.y, length(cam_pos - frag_position));
    frag_color = vec4(mix(base.rgb, u_fog_color, fog_floor), base.a);
    return;
#endif
    float sky = 0.5 + 0.5 * n.y;
    vec3 color = base.rgb * ambient_light * mix(0.45, 1.0, sky);
    for (int i = 0; i < n_directional_lights; i++) {
        vec3 l = -normalize(directional_lights[i].direction);
        float ndl = max(dot(n, l), 0.0);
        vec3 h = normalize(l + v);
        float spec = gloss * 0.35 * pow(max(dot(n, h), 0.0), 8.0 + 56.0 * gloss);
        color += directional_lights[i].color * directional_lights[i].intensity * 0.35
                 * (base.rgb * ndl + spec * ndl);
    }
#ifdef USE_METALLIC_MATERIAL
    color += material.emissive_factor;
#endif
    float fog = smoothstep(u_fog.x, u_fog.y, length(cam_pos - frag_position));
    frag_color = vec4(mix(clamp(color, 0.0, 1.0), u_fog_color, fog), base.a);
}
"""

MESH_VERT = """#version 330 core
// pyrender's mesh.vert without its per-vertex 4x4 inverse (every model matrix here is rigid).
layout(location = 0) in vec3 position;
#ifdef NORMAL_LOC
layout(location = NORMAL_LOC) in vec3 normal;
#endif
#ifdef TEXCOORD_0_LOC
layout(location = TEXCOORD_0_LOC) in vec2 texcoord_0;
#endif
#ifdef COLOR_0_LOC
layout(location = COLOR_0_LOC) in vec4 color_0;
#endif
layout(location = INST_M_LOC) in mat4 inst_m;
uniform mat4 M;
uniform mat4 V;
uniform mat4 P;
out vec3 frag_position;
#ifdef NORMAL_LOC
out vec3 frag_normal;
#endif
#ifdef TEXCOORD_0_LOC
out vec2 uv_0;
#endif
#ifdef COLOR_0_LOC
out vec4 color_multiplier;
#endif
void main()
{
    mat4 model = M * inst_m;
    vec4 world = model * vec4(position, 1.0);
    gl_Position = P * V * world;
    frag_position = world.xyz;
#ifdef NORMAL_LOC
    frag_normal = mat3(model) * normal;
#endif
#ifdef TEXCOORD_0_LOC
    uv_0 = texcoord_0;
#endif
#ifdef COLOR_0_LOC
    color_multiplier = color_0;
#endif
}
"""

FXAA_VERT = """#version 330 core
out vec2 uv;
void main()
{
    vec2 corner = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);  // one triangle covers the screen
    uv = corner;
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
"""

FXAA_FRAG = """#version 330 core
// Fast approximate anti-aliasing, after T. Lottes, "FXAA" (NVIDIA white paper, 2009): find the
// local edge direction from the luma of the four diagonal neighbours and blend along it.
uniform sampler2D frame;
uniform vec2 texel;
in vec2 uv;
out vec4 color;
const float REDUCE_MIN = 1.0 / 128.0;
const float REDUCE_MUL = 1.0 / 8.0;
const float SPAN_MAX = 8.0;
float luma(vec3 c) { return dot(c, vec3(0.299, 0.587, 0.114)); }
ivec2 last;
float luma_at(ivec2 p) { return luma(texelFetch(frame, clamp(p, ivec2(0), last), 0).rgb); }
void main()
{
    last = textureSize(frame, 0) - 1;
    ivec2 px = ivec2(gl_FragCoord.xy);  // unfiltered fetches for the edge test: cheaper
    vec3 m = texelFetch(frame, px, 0).rgb;
    float lm = luma(m);
    float nw = luma_at(px + ivec2(-1, 1));
    float ne = luma_at(px + ivec2(1, 1));
    float sw = luma_at(px + ivec2(-1, -1));
    float se = luma_at(px + ivec2(1, -1));
    float lo = min(lm, min(min(nw, ne), min(sw, se)));
    float hi = max(lm, max(max(nw, ne), max(sw, se)));
    if (hi - lo < max(0.0312, hi * 0.125)) { color = vec4(m, 1.0); return; }
    vec2 dir = vec2(-((nw + ne) - (sw + se)), (nw + sw) - (ne + se));
    float reduce = max((nw + ne + sw + se) * 0.25 * REDUCE_MUL, REDUCE_MIN);
    float scale = 1.0 / (min(abs(dir.x), abs(dir.y)) + reduce);
    dir = clamp(dir * scale, vec2(-SPAN_MAX), vec2(SPAN_MAX)) * texel;
    vec3 a = 0.5 * (texture(frame, uv + dir * (1.0 / 3.0 - 0.5)).rgb
                    + texture(frame, uv + dir * (2.0 / 3.0 - 0.5)).rgb);
    vec3 b = 0.5 * a + 0.25 * (texture(frame, uv - 0.5 * dir).rgb
                               + texture(frame, uv + 0.5 * dir).rgb);
    float lb = luma(b);
    color = vec4((lb < lo || lb > hi) ? a : b, 1.0);
}
"""
