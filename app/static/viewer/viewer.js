// <motionbeat-viewer src="dance.glb">: the dance's GLB in 3D, playing; orbit with the mouse
// (drag: turn, wheel: zoom, right-drag: pan), scrub with the slider, pause with the button.
// three.js is vendored beside this file by `python -m app.viewer --vendor` (scripts/setup.sh);
// nothing is fetched from the network. Tests read the element's `state` (see app/viewer.py).
import * as THREE from './vendor/three/build/three.module.js';
import { GLTFLoader } from './vendor/three/examples/jsm/loaders/GLTFLoader.js';
import { OrbitControls } from './vendor/three/examples/jsm/controls/OrbitControls.js';

const BACKGROUND = 0xf3f1ec;
const FLOOR_SIZE_M = 8;
const EYE_HEIGHT_M = 1.1;
const CAMERA_DISTANCE_M = 3.6;
const SLIDER_STEPS = 1000;

class MotionbeatViewer extends HTMLElement {
  connectedCallback() {
    if (this.renderer) return;
    this.state = { loaded: false, error: null, time: 0, duration: 0, playing: false, frames: 0,
                   vertices: 0, joints: 0, renders: 0 };
    this.style.display = 'block';
    this.innerHTML = `
      <div class="mbv-stage" style="position:relative;width:100%;aspect-ratio:1/1;">
        <canvas style="width:100%;height:100%;display:block;border-radius:8px;"></canvas>
        <div class="mbv-status" style="position:absolute;top:8px;left:10px;font:13px sans-serif;color:#555;">
          loading the 3D dancer...</div>
      </div>
      <div style="display:flex;gap:8px;align-items:center;margin-top:6px;font:13px sans-serif;">
        <button class="mbv-play" type="button" style="min-width:64px;">Pause</button>
        <input class="mbv-scrub" type="range" min="0" max="${SLIDER_STEPS}" value="0" style="flex:1;"
               aria-label="animation time">
        <span class="mbv-time" style="min-width:92px;text-align:right;">0.00 s</span>
      </div>`;
    this.canvas = this.querySelector('canvas');
    this.status = this.querySelector('.mbv-status');
    this.slider = this.querySelector('.mbv-scrub');
    this.timeLabel = this.querySelector('.mbv-time');
    this.playButton = this.querySelector('.mbv-play');
    try {
      this.renderer = new THREE.WebGLRenderer({ canvas: this.canvas, antialias: true, preserveDrawingBuffer: true });
    } catch (err) {
      this.fail(`3D view unavailable: ${err.message || err}`);
      return;
    }
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(BACKGROUND);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x8d7c6a, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(2, 4, 3);
    this.scene.add(sun);
    this.scene.add(new THREE.GridHelper(FLOOR_SIZE_M, FLOOR_SIZE_M * 2, 0x9a9184, 0xcfc8bc));
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.05, 100);
    this.camera.position.set(0, EYE_HEIGHT_M, CAMERA_DISTANCE_M);
    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.target.set(0, EYE_HEIGHT_M * 0.8, 0);
    this.controls.update();
    this.lastNow = performance.now();
    this.playButton.addEventListener('click', () => this.setPlaying(!this.state.playing));
    this.slider.addEventListener('input', () => {
      this.setPlaying(false);
      this.seek((this.slider.value / SLIDER_STEPS) * this.state.duration);
    });
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.canvas);
    this.resize();
    this.load(this.getAttribute('src'));
    this.renderer.setAnimationLoop(() => this.frame());
  }

  disconnectedCallback() {
    if (!this.renderer) return;
    this.renderer.setAnimationLoop(null);
    this.resizeObserver.disconnect();
    this.controls.dispose();
    this.renderer.dispose();
    this.renderer = null;
  }

  fail(message) {
    this.state.error = message;
    this.status.textContent = message;
  }

  load(src) {
    if (!src) {
      this.fail('no dance yet');
      return;
    }
    new GLTFLoader().load(src, (gltf) => {
      this.model = gltf.scene;
      this.scene.add(this.model);
      this.model.traverse((node) => {
        if (node.isSkinnedMesh) {
          this.state.vertices += node.geometry.attributes.position.count;
          this.state.joints = node.skeleton.bones.length;
          node.frustumCulled = false;  // the bind-pose bounds do not follow the dancer around
        }
      });
      const clip = gltf.animations[0];
      this.mixer = new THREE.AnimationMixer(this.model);
      this.action = this.mixer.clipAction(clip);
      this.action.play();
      this.state.duration = clip.duration;
      this.state.frames = clip.tracks.length ? clip.tracks[0].times.length : 0;
      this.mixer.setTime(0);
      const pelvis = new THREE.Vector3();
      this.model.getObjectByProperty('isBone', true).getWorldPosition(pelvis);  // the skeleton's root
      this.controls.target.set(pelvis.x, EYE_HEIGHT_M * 0.8, pelvis.z);
      this.camera.position.set(pelvis.x, EYE_HEIGHT_M, pelvis.z + CAMERA_DISTANCE_M);
      this.controls.update();
      this.state.loaded = true;
      this.status.textContent = '';
      this.setPlaying(true);
    }, undefined, (err) => this.fail(`could not load the dance: ${err.message || err}`));
  }

  setPlaying(playing) {
    this.state.playing = playing && !!this.mixer;
    this.playButton.textContent = this.state.playing ? 'Pause' : 'Play';
    this.lastNow = performance.now();  // no jump for the time spent paused
  }

  seek(seconds) {
    if (!this.mixer) return;
    this.mixer.setTime(Math.min(Math.max(seconds, 0), this.state.duration));
    this.showTime();
  }

  showTime() {
    const time = this.state.duration ? this.action.time : 0;
    this.state.time = time;
    this.timeLabel.textContent = `${time.toFixed(2)} / ${this.state.duration.toFixed(2)} s`;
    if (this.state.playing && this.state.duration) {
      this.slider.value = Math.round((time / this.state.duration) * SLIDER_STEPS);
    }
  }

  resize() {
    const width = this.canvas.clientWidth || 1;
    const height = this.canvas.clientHeight || 1;
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
  }

  frame() {
    const now = performance.now();
    const delta = (now - this.lastNow) / 1000;
    this.lastNow = now;
    if (this.mixer && this.state.playing) {
      this.mixer.update(delta);
      this.showTime();
    }
    this.controls.update();
    this.renderer.render(this.scene, this.camera);
    this.state.renders += 1;
  }
}

if (!customElements.get('motionbeat-viewer')) {
  customElements.define('motionbeat-viewer', MotionbeatViewer);
}
