from configparser import ConfigParser
import setuptools, shlex

# note: all settings are in settings.ini; edit there, not here
config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o:cfg[o] for o in cfg_keys}

licenses = {  # settings.ini's `license` → SPDX expression (PEP 639; licence classifiers are deprecated)
    'apache2': 'Apache-2.0',
}
statuses = [ '1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive' ]
py_versions = '3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))
lic = licenses.get(cfg['license'].lower(), cfg['license'])
min_python = cfg['min_python']

# The repository keeps its sample data at the top level (data_samples/); the wheel carries it inside the package as
# ggtalker_nb/data_samples/ (ggtalker_nb.core.data_samples_root finds either). Every file under data_samples/ is
# shipped except the editor/build litter below; the sdist carries the folder through MANIFEST.in (graft).
DATA_PKG, DATA_DIR = 'ggtalker_nb.data_samples', 'data_samples'
DATA_EXCLUDE = ['**/__pycache__/*', '**/.ipynb_checkpoints/*', '**/*.py[co]', '**/*.tmp', '**/.DS_Store']

# PEP 639 metadata (License-Expression) needs setuptools >= 77, which pip's isolated build installs (pyproject.toml);
# a --no-build-isolation build on an older setuptools gets the same SPDX string in the older `License` field.
lic_kw = dict(license_files=['LICENSE', 'NOTICE'])
lic_kw['license_expression' if int(setuptools.__version__.split('.')[0]) >= 77 else 'license'] = lic

setuptools.setup(
    name = cfg['lib_name'],
    **lic_kw,
    classifiers = [
        'Development Status :: ' + statuses[int(cfg['status']) - 1],  # settings.ini status 3 → '3 - Alpha'
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: '+o for o in py_versions[py_versions.index(min_python):]],
    url = cfg['git_url'],
    packages = setuptools.find_packages(include=['ggtalker_nb', 'ggtalker_nb.*']) + [DATA_PKG],
    package_dir = {DATA_PKG: DATA_DIR},
    package_data = {DATA_PKG: ['**/*']},
    exclude_package_data = {DATA_PKG: DATA_EXCLUDE},
    include_package_data = False,  # package_data above says what ships (MANIFEST.in only shapes the sdist)
    install_requires = requirements,
    extras_require = {'dev': dev_requirements},
    dependency_links = cfg.get('dep_links','').split(),
    python_requires  = '>=' + cfg['min_python'],
    long_description = open('README.md', encoding='utf-8').read(),
    long_description_content_type = 'text/markdown',
    zip_safe = False,
    entry_points = {
        'console_scripts': cfg.get('console_scripts','').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d']
    },
    **setup_cfg)
