{# pd14_pynn: spike delivery split among OpenMP threads (backends/brian2_openmp.py).
   For on_pre code that adds to one variable of the target neuron: each thread
   delivers the spikes of its own queue into a private copy of that variable, and
   the copies are then added to it, each thread taking a range of neurons. #}
{% extends 'common_synapses.cpp' %}
{% set _targets = [] %}
{% for var in variables %}
    {% if variable_indices[var] not in ('_idx', '0') and not variables[var].scalar and variables[var].__class__.__name__ == 'ArrayVariable' %}
        {% if _targets.append(var) %}{% endif %}
    {% endif %}
{% endfor %}
{% block maincode %}
    {# USES_VARIABLES { _synaptic_pre, _synaptic_post } #}
    {% if _targets|length != 1 %}
    #error "pd14_pynn's threaded delivery needs on_pre code writing exactly one target variable"
    {% endif %}
    {% set _target_ptr = get_array_name(variables[_targets[0]]) %}
    {% set _target_size = variables[_targets[0]].size %}
    {% set _target_type = c_data_type(variables[_targets[0]].dtype) %}
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}
    static std::vector< std::vector<{{_target_type}}> > _pd14_partial;
    const int _pd14_n_threads = {{ openmp_pragma('get_num_threads') }};
    if ((int)_pd14_partial.size() != _pd14_n_threads)
        _pd14_partial.assign(_pd14_n_threads, std::vector<{{_target_type}}>({{_target_size}}, 0));
    {{_target_type}}* const _pd14_target = {{_target_ptr}};
    {{ openmp_pragma('parallel') }}
    {
        const int _pd14_thread = {{ openmp_pragma('get_thread_num') }};
        std::vector<int32_t> *_spiking_synapses = {{pathway.name}}.queue[_pd14_thread]->peek();
        const size_t _num_spiking_synapses = _spiking_synapses->size();
        {
            // the generated code below writes through this name: the thread's copy
            {{_target_type}}* __restrict {{_target_ptr}} = &_pd14_partial[_pd14_thread][0];
            for (size_t _k = 0; _k < _num_spiking_synapses; _k++)
            {
                const size_t _idx = (*_spiking_synapses)[_k];
                const size_t _vectorisation_idx = _idx;
                {{vector_code|autoindent}}
            }
        }
        {{ openmp_pragma('barrier') }}
        {{ openmp_pragma('static') }}
        for (size_t _n = 0; _n < {{_target_size}}; _n++)
        {
            {{_target_type}} _sum = _pd14_target[_n];
            for (int _t = 0; _t < _pd14_n_threads; _t++)
            {
                _sum += _pd14_partial[_t][_n];
                _pd14_partial[_t][_n] = 0;
            }
            _pd14_target[_n] = _sum;
        }
    }
{% endblock %}
